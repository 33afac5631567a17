"""The payments API, /api/payments/: for staff and for the services that take payments."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from payments_service.core.idempotency import idempotency_key, idempotency_parameter, mark_replay
from payments_service.core.parsers import JSONParser
from payments_service.core.permissions import IsStaffOrService
from payments_service.core.serializers import ErrorSerializer

from . import selectors, services
from .serializers import (
    PaymentListQuerySerializer,
    PaymentRequestSerializer,
    PaymentSerializer,
    RefundRequestSerializer,
    RefundSerializer,
)

AUTH_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="Not signed in."),
    403: OpenApiResponse(ErrorSerializer, description="Only staff and services may use the payments API."),
}
INPUT_ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="Invalid input or a missing Idempotency-Key; the body names the field."
    ),
    **AUTH_ERRORS,
    409: OpenApiResponse(
        ErrorSerializer,
        description="A request with this key is still in progress, or the payment's state forbids this.",
    ),
    422: OpenApiResponse(ErrorSerializer, description="The Idempotency-Key was used with another request."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such payment.")}


@extend_schema(tags=["payments"])
class PaymentListView(generics.ListAPIView):
    # JSON only: a form cannot carry this nested body (and the document then advertises JSON alone).
    parser_classes = [JSONParser]
    serializer_class = PaymentSerializer
    permission_classes = [IsStaffOrService]

    def get_queryset(self):
        query = PaymentListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.payment_list(order_number=query.validated_data.get("order_number"))

    @extend_schema(
        parameters=[PaymentListQuerySerializer],
        responses={
            200: PaymentSerializer(many=True),
            400: OpenApiResponse(ErrorSerializer, description="A bad order_number, page or page_size."),
            **AUTH_ERRORS,
            404: OpenApiResponse(ErrorSerializer, description="No such page."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        parameters=[idempotency_parameter()],
        request=PaymentRequestSerializer,
        responses={201: PaymentSerializer, **INPUT_ERRORS},
        description="Charge a card. The payment's `status` is `succeeded`, or `failed` with a `failure_code`.",
    )
    def post(self, request):
        key = idempotency_key(request)
        data = PaymentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.payment_create(idempotency_key=key, **data.validated_data)
        body = PaymentSerializer(outcome.payment).data
        return mark_replay(Response(body, status=status.HTTP_201_CREATED), outcome.replayed)


@extend_schema(tags=["payments"])
class PaymentDetailView(APIView):
    permission_classes = [IsStaffOrService]

    @extend_schema(responses={200: PaymentSerializer, **AUTH_ERRORS, **NOT_FOUND})
    def get(self, request, payment_id):
        return Response(PaymentSerializer(selectors.payment_get(payment_id=payment_id)).data)


@extend_schema(tags=["payments"])
class RefundListView(APIView):
    permission_classes = [IsStaffOrService]

    @extend_schema(
        parameters=[idempotency_parameter(required=False)],
        request=RefundRequestSerializer,
        responses={201: RefundSerializer, **INPUT_ERRORS, **NOT_FOUND},
        description="Refund all or part of what is left of a payment; never more than was paid.",
    )
    def post(self, request, payment_id):
        key = idempotency_key(request, required=False)
        data = RefundRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.refund_create(payment_id=payment_id, idempotency_key=key, **data.validated_data)
        body = RefundSerializer(outcome.refund).data
        return mark_replay(Response(body, status=status.HTTP_201_CREATED), outcome.replayed)
