"""The simulator: a year of a city's cases, played on the process bank with the engine's rules.

    simulation_run(*, scenario, truth_path=None) -> SimulationReport   (services.py)

scenario.py says what is played and what is planted, world.py reads the city, clock.py maps
working hours to moments, play.py runs SimPy, store.py writes the rows in bulk, truth.py writes
the ground truth beside them.
"""
