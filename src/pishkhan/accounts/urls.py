from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    # `citizen_signin` is settings.LOGIN_URL: keep the name.
    path("signin/", views.citizen_signin, name="citizen_signin"),
    path("signin/code/", views.citizen_signin_code, name="citizen_signin_code"),
    path("signin/profile/", views.citizen_profile, name="citizen_profile"),
    path("staff/signin/", views.staff_signin, name="staff_signin"),
    path("staff/signin/totp/", views.staff_signin_totp, name="staff_signin_totp"),
    path("staff/enrol/", views.staff_enrol, name="staff_enrol"),
    path("signout/", views.signout, name="signout"),
    path("me/export/", views.personal_data_download, name="personal_data_download"),
]
