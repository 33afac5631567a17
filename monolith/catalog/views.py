"""Shop pages for browsing: the product list and a product's page. They read through the catalog port."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render

from monolith.cart.forms import CartAddForm
from monolith.core.errors import NotFound
from monolith.wiring import get_catalog

LIST_FILTERS = ("category", "q", "ordering", "in_stock", "min_price", "max_price")


def product_list(request):
    catalog = get_catalog()
    filters = {name: request.GET[name] for name in LIST_FILTERS if request.GET.get(name)}
    error = None
    try:
        page = catalog.product_page(filters=filters, page=request.GET.get("page", 1), per_page=settings.PRODUCTS_PER_PAGE)
    except ValidationError as exc:
        error = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        page = catalog.product_page(filters={}, page=1, per_page=settings.PRODUCTS_PER_PAGE)
    categories = catalog.categories()
    current = next((c for c in categories if c.slug == filters.get("category")), None)
    if current is None and filters.get("category") and not error:
        return render(request, "404.html", {"message": f"We have no category {filters['category']}."}, status=404)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "categories": categories,
            "current_category": current,
            "q": filters.get("q", ""),
            "filter_error": error,
            "querystring": query.urlencode(),
        },
        status=400 if error else 200,
    )


def product_detail(request, sku):
    return render_product_page(request, sku, CartAddForm(initial={"sku": sku, "quantity": 1}))


def render_product_page(request, sku, form, status=200):
    """The product page with its add-to-cart form (bound and showing errors when the add failed)."""
    catalog = get_catalog()
    try:
        product = catalog.product(sku)
    except NotFound:
        return render(request, "404.html", {"message": f"We have no product {sku}."}, status=404)
    categories = {c.slug: c for c in catalog.categories()}
    return render(
        request,
        "catalog/product_detail.html",
        {"product": product, "category": categories.get(product.category), "form": form},
        status=status,
    )
