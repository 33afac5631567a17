"""The storefront's pages: the product list, a product's page, and its add-to-cart form.

They read the catalog through the catalog port and change the cart through the cart's services:
the storefront uses the cart context, never the other way round.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from monolith.cart import services as cart_services
from monolith.cart.forms import CartAddForm
from monolith.core.errors import ApplicationError, NotFound
from monolith.core.forms import add_application_error
from monolith.wiring import get_catalog

LIST_FILTERS = ("category", "q", "ordering", "in_stock", "min_price", "max_price")


def product_list(request):
    catalog = get_catalog()
    filters = {name: request.GET[name] for name in LIST_FILTERS if request.GET.get(name)}
    error = None
    try:
        page = catalog.product_page(
            filters=filters, page=request.GET.get("page", 1), per_page=settings.PRODUCTS_PER_PAGE
        )
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
        "storefront/product_list.html",
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
    return _render_product_page(request, sku, CartAddForm(initial={"sku": sku, "quantity": 1}))


def _render_product_page(request, sku, form, status=200):
    """The product page with its add-to-cart form (bound and showing errors when the add failed)."""
    catalog = get_catalog()
    try:
        product = catalog.product(sku)
    except NotFound:
        return render(request, "404.html", {"message": f"We have no product {sku}."}, status=404)
    categories = {c.slug: c for c in catalog.categories()}
    return render(
        request,
        "storefront/product_detail.html",
        {"product": product, "category": categories.get(product.category), "form": form},
        status=status,
    )


@require_POST
def add_to_cart(request):
    """The product page's form: add to the cart, or show the product page again with the form's errors."""
    form = CartAddForm(request.POST)
    if form.is_valid():
        try:
            product = cart_services.cart_add(session=request.session, **form.cleaned_data)
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Added {form.cleaned_data['quantity']} × {product.name} to your cart.")
            return redirect("cart:detail")
    sku = form.cleaned_data.get("sku") or request.POST.get("sku", "")
    if not form.has_error("sku") and sku:
        return _render_product_page(request, sku, form, status=400)
    messages.error(request, "That product could not be added: " + " ".join(form.errors.get("sku", [])))
    return redirect("cart:detail")
