"""Okapi BM25 over a small, fixed set of tokenised documents.

Written here rather than taken from rank-bm25: the catalogue is tens of documents, the scorer is
twenty lines, and we need what that package does not offer (term weights per field, scoring a
subset of documents, no per-query numpy arrays over the whole corpus).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence


class BM25:
    def __init__(self, documents: Sequence[Mapping[str, float]], k1: float = 1.2, b: float = 0.75) -> None:
        """``documents``: term -> (weighted) frequency per document."""
        self.k1, self.b = k1, b
        self.docs = list(documents)
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg_length = (sum(self.lengths) / len(self.docs)) if self.docs else 1.0
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        # the "+1" variant (Lucene's): never negative, even for a term in most documents
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, query: Sequence[str], index: int) -> float:
        doc, length = self.docs[index], self.lengths[index]
        norm = self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1.0))
        total = 0.0
        for term in set(query):
            tf = doc.get(term, 0.0)
            if tf:
                total += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
        return total
