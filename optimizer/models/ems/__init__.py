"""120 / EMS ambulance stations and fleet: model, outputs, layers."""
