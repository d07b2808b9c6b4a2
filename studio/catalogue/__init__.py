"""The product catalogue (products with prices, stock, links, selling points and FAQ entries) and
the local product-question assistant that answers viewers' questions from it. No Qt here."""
