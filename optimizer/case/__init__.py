"""What we do with a case file: load it, prepare its data, solve it with its family, write it."""
