import FleetAPI
