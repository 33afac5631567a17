"""Catalog data: categories, products with their stock, and stock reservations."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,31}$"
sku_validator = RegexValidator(SKU_PATTERN, "Use 2 to 32 upper-case letters, digits and dashes.")


class Category(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    # The sku, not the database id, is the product's identity: it survives the
    # move to another database, so orders, carts and URLs use it.
    sku = models.CharField(max_length=32, unique=True, validators=[sku_validator])
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default=settings.SHOP_CURRENCY)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "sku"]
        constraints = [
            # The last line of defence against overselling: the database itself
            # refuses a negative stock, whatever the code above it does.
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
        ]
        indexes = [models.Index(fields=["category", "is_active", "name"])]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class StockReservation(models.Model):
    """Stock set aside for an order: taken from `Product.stock` when held.

    A reservation is held, then either committed (the goods are sold) or
    released (the stock goes back). Its id comes from the caller, so a retried
    request finds the reservation it already made instead of reserving twice.
    """

    class Status(models.TextChoices):
        HELD = "held"
        COMMITTED = "committed"
        RELEASED = "released"

    reservation_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.reservation_id} ({self.status})"


class StockReservationLine(models.Model):
    reservation = models.ForeignKey(StockReservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["product__sku"]

    def __str__(self):
        return f"{self.quantity} x {self.product_id} ({self.reservation_id})"
