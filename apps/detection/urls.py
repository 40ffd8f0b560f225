from django.urls import path

from apps.detection.api import alpr as alpr_views
from apps.detection.api import codeproject as codeproject_views
from apps.detection.api import detect as views
from apps.detection.path_keys import path_key_variant

# DeepStack / CodeProject.AI routes: camera software appends these to a server's address.
VISION_ROUTES = [
    ("v1/vision/detection", views.DeepStackDetectionView, "deepstack-detection"),
    # Before custom/<model>: "list" is CodeProject.AI's listing, not a model name.
    ("v1/vision/custom/list", codeproject_views.CustomModelListView, "codeproject-custom-list"),
    ("v1/vision/custom/<str:model>", codeproject_views.CustomModelView, "codeproject-custom"),
    # CodeProject.AI's ALPR module: the legacy route Blue Iris calls, and the current one.
    ("v1/image/alpr", alpr_views.AlprView, "codeproject-alpr-legacy"),
    ("v1/vision/alpr", alpr_views.AlprView, "codeproject-alpr"),
    (
        "v1/status/updateavailable",
        codeproject_views.UpdateAvailableView,
        "codeproject-update-available",
    ),
]

urlpatterns = [
    path("inference", views.SeedInferenceView.as_view(), name="seed-inference"),
    path(
        "api/v1/detect/<str:application_type>",
        views.NativeDetectView.as_view(),
        name="native-detect",
    ),
    *(path(route, view.as_view(), name=name) for route, view, name in VISION_ROUTES),
    # The same routes behind /k/<key>/ for software that takes a URL but sends no key.
    *(
        path(f"k/<str:path_key>/{route}", path_key_variant(view).as_view(), name=f"{name}-key")
        for route, view, name in VISION_ROUTES
    ),
]
