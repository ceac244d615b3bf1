"""Results: what is read back from an output folder. Run ``records`` (the typed record, the run
folder), the ``leaderboard`` and its terminal views, ``comparison`` plots (``metric_chart``), the
seed ``statistics``, and the HTML ``report`` (its data in ``report_model``, ``report_summary``,
``report_protocol`` and ``report_glossary``; what the page shows of it in ``report_view`` and
``report_cells``; its markup from the Jinja2 templates in ``templates/`` by ``report_html``).
Reads records; imports nothing from running or evaluation."""
