"""Certificates: the PDF a candidate receives and the data it is made from."""
