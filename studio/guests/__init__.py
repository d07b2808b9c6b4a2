"""The studio side of co-hosting (issue 15): guest decoders, mixer channels, return feeds, layouts."""
