"""posterapp: personal "美好生活" posters from a catalog of choices, with a QR code to share."""
