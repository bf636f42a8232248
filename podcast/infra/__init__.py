"""Infrastructure every stage uses: atomic writes, locks, fail points, the content caches."""
