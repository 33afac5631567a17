"""The catalog port in this process: LocalCatalog calls the catalog context's selectors and services directly."""

from django.core.paginator import Paginator

from monolith.catalog import selectors, services
from monolith.core.errors import NotFound
from monolith.ports.catalog import CategoryInfo, ProductInfo, ProductPage, ReservedLine, StockCommits


class LocalCatalog:
    """The catalog context in this process: calls its selectors and services directly."""

    shares_transaction = True

    def categories(self):
        return [CategoryInfo(c.slug, c.name, c.description) for c in selectors.category_list()]

    def product_page(self, *, filters, page, per_page):
        paginator = Paginator(selectors.product_list(filters=filters), per_page)
        page_obj = paginator.get_page(page)  # a bad or too large page number shows the nearest page
        return ProductPage(
            products=[_product_info(p) for p in page_obj.object_list],
            count=paginator.count,
            number=page_obj.number,
            num_pages=paginator.num_pages,
        )

    def product(self, sku):
        return _product_info(selectors.product_get(sku=sku))

    def products(self, skus):
        return {sku: _product_info(p) for sku, p in selectors.products_by_sku(skus=skus).items()}

    def reserve(self, *, reservation_id, lines):
        reservation, _ = services.stock_reserve(reservation_id=reservation_id, lines=lines)
        return {
            line.product.sku: ReservedLine(
                sku=line.product.sku,
                quantity=line.quantity,
                name=line.product.name,
                price=line.product.price,
                currency=line.product.currency,
            )
            for line in reservation.lines.select_related("product")
        }

    def commit(self, *, reservation_id):
        services.stock_commit(reservation_id=reservation_id)

    def commit_many(self, *, reservation_ids):
        return StockCommits.from_body(services.stock_commit_many(reservation_ids=reservation_ids))

    def release(self, *, reservation_id):
        services.stock_release(reservation_id=reservation_id)

    def held_reservations(self, *, older_than):
        return selectors.reservation_ids_held(created_before=older_than)

    def reservation_status(self, *, reservation_id):
        try:
            return selectors.reservation_get(reservation_id=reservation_id).status
        except NotFound:
            return None


def _product_info(product):
    return ProductInfo(
        sku=product.sku,
        name=product.name,
        slug=product.slug,
        description=product.description,
        category=product.category.slug,
        price=product.price,
        currency=product.currency,
        stock=product.stock,
        is_active=product.is_active,
        updated_at=product.updated_at,
    )
