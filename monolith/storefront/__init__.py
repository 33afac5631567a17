"""The storefront: the shop pages that stay in the monolith (product list, product page).

It reads the catalog only through the catalog port, like cart and orders, so it works the same
whether the catalog runs in this process or in the catalog service.
"""
