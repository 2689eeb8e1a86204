"""The REST API (/api/): reads of the plan, its measures, the PDCA records and the reports' figures, and
writes of the records, all through the same permission predicates and the same workflow door as the pages.

- serializers.py: what each endpoint answers (read-only) and the shapes of the bodies it accepts.
- selectors.py: the queries behind the endpoints (the same count for 30 measures as for 3,000).
- views.py: fetch with a permission check → validate with the pages' forms → kpi.workflow → JSON.
- permissions.py, filters.py, errors.py: who may read, the list filters, the JSON error shapes.
"""
