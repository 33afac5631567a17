"""The orders API, /api/orders/: place, read, pay and cancel an order (the monolith's, at every stage)."""

from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.core.idempotency import idempotency_key, idempotency_parameter, mark_replay
from monolith.core.parsers import JSONParser
from monolith.core.serializers import ErrorSerializer

from . import selectors, services
from .owner import Owner
from .serializers import OrderRequestSerializer, OrderSerializer, PaymentResultSerializer, PayRequestSerializer

# The HTTP status that tells a client how a payment ended.
PAYMENT_STATUS_CODES = {
    "succeeded": status.HTTP_201_CREATED,
    "failed": status.HTTP_402_PAYMENT_REQUIRED,
    "pending": status.HTTP_202_ACCEPTED,
}

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="Invalid input; the body names each bad field.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such order, or not yours.")
SHORT = OpenApiResponse(
    ErrorSerializer, description="Not enough stock; `skus` names the short ones. Nothing was reserved."
)


@extend_schema(tags=["orders"])
class OrderListView(generics.ListAPIView):
    # JSON only: a form cannot carry this nested body (and the document then advertises JSON alone).
    parser_classes = [JSONParser]
    serializer_class = OrderSerializer

    def get_queryset(self):
        return selectors.order_list(owner=Owner.from_request(self.request))

    @extend_schema(
        description="Your orders: a signed-in customer's, or this session's when anonymous.",
        responses={
            200: OrderSerializer(many=True),
            400: OpenApiResponse(ErrorSerializer, description="A bad page or page_size."),
            404: OpenApiResponse(ErrorSerializer, description="No such page."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=OrderRequestSerializer,
        parameters=[idempotency_parameter(required=False)],
        responses={
            201: OrderSerializer,
            400: BAD_INPUT,
            409: SHORT,
            422: OpenApiResponse(
                ErrorSerializer, description="The Idempotency-Key belongs to another customer's order."
            ),
        },
        description="Place an order at today's prices and reserve its stock; pay it next with /pay/.",
    )
    def post(self, request):
        data = OrderRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_place(
            owner=Owner.from_request(request),
            idempotency_key=idempotency_key(request, required=False),
            **data.validated_data,
        )
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["orders"])
class OrderDetailView(APIView):
    @extend_schema(responses={200: OrderSerializer, 404: NOT_FOUND})
    def get(self, request, number):
        order = selectors.order_get(owner=Owner.from_request(request), number=number)
        return Response(OrderSerializer(order).data)


# Not in the request's transaction: the payment attempt is committed before it is delivered, so
# no charge in the payments service can outlive a rolled-back attempt (outbox.payment_deliver).
@extend_schema(tags=["orders"])
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class OrderPayView(APIView):
    # JSON only: a form cannot carry this nested body (and the document then advertises JSON alone).
    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[idempotency_parameter()],
        request=PayRequestSerializer,
        responses={
            201: OpenApiResponse(PaymentResultSerializer, description="Paid."),
            202: OpenApiResponse(PaymentResultSerializer, description="Pending: the payment cannot be settled yet."),
            400: BAD_INPUT,
            402: OpenApiResponse(
                PaymentResultSerializer,
                description="Declined: see `failure_code`. The order's stock is released; pay again to retry.",
            ),
            404: NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer,
                description="The order cannot be paid (already paid or cancelled, or a payment is being settled), or its stock is gone.",
            ),
            422: OpenApiResponse(ErrorSerializer, description="The Idempotency-Key was used with another card."),
        },
    )
    def post(self, request, number):
        key = idempotency_key(request)
        order = selectors.order_get(owner=Owner.from_request(request), number=number)
        data = PayRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.order_pay(order=order, idempotency_key=key, **data.validated_data)
        body = PaymentResultSerializer(result.payment).data
        return mark_replay(Response(body, status=PAYMENT_STATUS_CODES[result.payment.status]), result.replayed)


@extend_schema(tags=["orders"])
class OrderCancelView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: OrderSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="A paid order cannot be cancelled."),
        },
        description="Cancel an unpaid order; its stock goes back.",
    )
    def post(self, request, number):
        order = selectors.order_get(owner=Owner.from_request(request), number=number)
        return Response(OrderSerializer(services.order_cancel(order=order)).data)
