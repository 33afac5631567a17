"""The catalog API, /api/catalog/: thin views over the catalog's selectors and services.

The monolith's api.py, but for who may write: staff, or a peer service with its token.
"""

from django.db.models import prefetch_related_objects
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog_service.core.parsers import JSONParser
from catalog_service.core.permissions import (
    IsService,
    IsStaffOrService,
    IsStaffOrServiceOrReadOnly,
    is_staff_or_service,
)
from catalog_service.core.serializers import ErrorSerializer

from . import selectors, services
from .filters import ProductFilter, StockReservationFilter
from .serializers import (
    CategorySerializer,
    ProductSerializer,
    StockReservationCommitsRequestSerializer,
    StockReservationCommitsSerializer,
    StockReservationRecordSerializer,
    StockReservationRequestSerializer,
    StockReservationSerializer,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; the body names each bad field."),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in."),
    403: OpenApiResponse(ErrorSerializer, description="Signed in, but not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="No such object."),
}
READ_ERRORS = {404: ERRORS[404]}
LIST_ERRORS = {400: ERRORS[400], 404: OpenApiResponse(ErrorSerializer, description="No such page.")}
WRITE_ERRORS = {code: ERRORS[code] for code in (400, 401, 403)}


def _errors(*codes, **extra):
    return {**{code: ERRORS[code] for code in codes}, **extra}


@extend_schema(tags=["catalog"])
class CategoryListView(generics.ListCreateAPIView):
    serializer_class = CategorySerializer
    permission_classes = [IsStaffOrServiceOrReadOnly]

    def get_queryset(self):
        return selectors.category_list()

    @extend_schema(responses={200: CategorySerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={201: CategorySerializer, **WRITE_ERRORS})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.category_create(**serializer.validated_data)


@extend_schema(tags=["catalog"])
class CategoryDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = CategorySerializer
    permission_classes = [IsStaffOrServiceOrReadOnly]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        category = selectors.category_get(slug=self.kwargs["slug"])
        self.check_object_permissions(self.request, category)
        return category

    @extend_schema(responses={200: CategorySerializer, **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={200: CategorySerializer, **_errors(400, 401, 403, 404)})
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)

    @extend_schema(responses={204: None, **_errors(401, 403, 404), 409: ErrorSerializer})
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.category_update(category=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.category_delete(category=instance)


@extend_schema(tags=["catalog"])
class ProductListView(generics.ListCreateAPIView):
    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrServiceOrReadOnly]
    # The monolith's FilterSet, copied: a query string means the same thing
    # whichever process answers it.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.product_queryset(include_inactive=is_staff_or_service(self.request.user))

    @extend_schema(responses={200: ProductSerializer(many=True), **LIST_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={201: ProductSerializer, **WRITE_ERRORS})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.product_create(**serializer.validated_data)


@extend_schema(tags=["catalog"])
class ProductDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrServiceOrReadOnly]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        product = selectors.product_get(sku=self.kwargs["sku"], include_inactive=is_staff_or_service(self.request.user))
        self.check_object_permissions(self.request, product)
        return product

    @extend_schema(responses={200: ProductSerializer, **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={200: ProductSerializer, **_errors(400, 401, 403, 404)})
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)

    @extend_schema(responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.product_update(product=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.product_delete(product=instance)


RESERVATION_ERRORS = {
    **_errors(400, 401, 403),
    409: OpenApiResponse(ErrorSerializer, description="Not enough stock; `skus` names the short ones."),
    422: OpenApiResponse(ErrorSerializer, description="This reservation_id was used for other lines."),
}


@extend_schema(tags=["catalog"])
class StockReservationListView(generics.ListAPIView):
    # JSON only: a form cannot carry this nested body (and the document then advertises JSON alone).
    parser_classes = [JSONParser]
    serializer_class = StockReservationSerializer
    permission_classes = [IsStaffOrService]
    filter_backends = [DjangoFilterBackend]
    filterset_class = StockReservationFilter

    def get_queryset(self):
        return selectors.reservation_queryset()

    @extend_schema(
        responses={200: StockReservationSerializer(many=True), **_errors(400, 401, 403), 404: LIST_ERRORS[404]},
        description="Stock reservations, oldest first: for a sweep looking for the ones held too long.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=StockReservationRequestSerializer,
        responses={
            201: StockReservationSerializer,
            200: OpenApiResponse(
                StockReservationSerializer, description="The reservation_id was seen before: its reservation."
            ),
            **RESERVATION_ERRORS,
        },
        description="Reserve stock for every line, or for none. Repeating a reservation_id returns the first result.",
    )
    def post(self, request):
        data = StockReservationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reservation, created = services.stock_reserve(**data.validated_data)
        prefetch_related_objects([reservation], selectors.RESERVATION_LINES)  # one query, however many lines
        return Response(
            StockReservationSerializer(reservation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(tags=["catalog"])
class StockReservationDetailView(APIView):
    # JSON only: a form cannot carry this nested body (and the document then advertises JSON alone).
    parser_classes = [JSONParser]
    permission_classes = [IsStaffOrService]

    def get_permissions(self):
        # Recording a reservation sets stock state by hand: for the data move, a peer service only.
        return [IsService()] if self.request.method == "PUT" else [IsStaffOrService()]

    @extend_schema(responses={200: StockReservationSerializer, **_errors(401, 403, 404)})
    def get(self, request, reservation_id):
        return Response(StockReservationSerializer(selectors.reservation_get(reservation_id=reservation_id)).data)

    @extend_schema(
        request=StockReservationRecordSerializer,
        responses={201: StockReservationSerializer, 200: StockReservationSerializer, **_errors(400, 401, 403, 404)},
        description="Record the reservation as the catalog's other copy holds it, stock untouched "
        "(the data move between the monolith and the catalog service; service token only).",
    )
    def put(self, request, reservation_id):
        data = StockReservationRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reservation, created = services.reservation_record(reservation_id=reservation_id, **data.validated_data)
        return Response(
            StockReservationSerializer(reservation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class _ReservationActionView(APIView):
    permission_classes = [IsStaffOrService]
    service = None  # a catalog service function taking reservation_id

    def post(self, request, reservation_id):
        self.service(reservation_id=reservation_id)
        return Response(StockReservationSerializer(selectors.reservation_get(reservation_id=reservation_id)).data)


ACTION_SCHEMA = extend_schema(
    tags=["catalog"],
    request=None,
    responses={200: StockReservationSerializer, **_errors(401, 403, 404), 409: ErrorSerializer},
)


@ACTION_SCHEMA
class StockReservationCommitView(_ReservationActionView):
    """Commit a held reservation: its stock is sold. Committing twice is harmless."""

    service = staticmethod(services.stock_commit)


@extend_schema(
    tags=["catalog"],
    request=StockReservationCommitsRequestSerializer,
    responses={200: StockReservationCommitsSerializer, **_errors(400, 401, 403)},
    description="Commit up to 100 held reservations in one call (what the monolith's relay does with "
    "paid orders). Committing twice is harmless; a released or unknown id is reported, "
    "not an error, and does not stop the others.",
)
class StockReservationCommitsView(APIView):
    permission_classes = [IsStaffOrService]
    # JSON only: a form field cannot say whether one id is a list of one or a string.
    parser_classes = [JSONParser]

    def post(self, request):
        data = StockReservationCommitsRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.stock_commit_many(**data.validated_data))


@ACTION_SCHEMA
class StockReservationReleaseView(_ReservationActionView):
    """Release a held reservation: its stock goes back. Releasing twice is harmless."""

    service = staticmethod(services.stock_release)
