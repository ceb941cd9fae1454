"""Settings, first-run setup and the device picker they share."""
