from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "pishkhan.simulator"
    verbose_name = "Simulator"
