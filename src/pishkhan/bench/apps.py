from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "pishkhan.bench"
    label = "bench"
    verbose_name = "Benchmarks"
