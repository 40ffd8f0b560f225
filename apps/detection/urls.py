from django.urls import path

from apps.detection import views

urlpatterns = [
    path("inference", views.SeedInferenceView.as_view(), name="seed-inference"),
    path(
        "api/v1/detect/<str:application_type>",
        views.NativeDetectView.as_view(),
        name="native-detect",
    ),
    path("v1/vision/detection", views.DeepStackDetectionView.as_view(), name="deepstack-detection"),
]
