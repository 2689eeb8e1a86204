from django.urls import path

from . import views

app_name = "initiatives"
urlpatterns = [
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/<slug:plan_code>/", views.plan_detail, name="plan_detail"),
]
