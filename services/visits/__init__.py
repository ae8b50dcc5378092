"""visits: Field visits: crews, day plans with routes and time windows, check-ins and outcomes;
publishes visits.v1.
"""
