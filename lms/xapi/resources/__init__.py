"""The resources of the LRS, one module each, as the specification lists them (Communication 2)."""
