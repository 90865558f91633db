"""Placeholder, being written."""
from handwriting.errors import InkFormatError
NAME = "unipen"
SUFFIXES = (".dat",)
def sniff(head): return False
def read(path): raise InkFormatError(path, None, "format not supported yet")
def write(inks, path): raise NotImplementedError
