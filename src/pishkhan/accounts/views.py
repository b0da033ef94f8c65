from django.http import HttpResponse


def citizen_signin(request):
    return HttpResponse("todo")
