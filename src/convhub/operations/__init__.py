"""Operating deliveries (extension): the delivery log, dead letters, re-delivery and callback
health, under ``/convhub/v1``, outside eGain's paths, with permissions of our own."""
