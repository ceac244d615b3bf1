"""Results: what is read back from an output folder. Run ``records`` (the typed record, the run
folder), the ``leaderboard`` and its terminal views, ``comparison`` plots, and the HTML ``report``
(its data in ``report_model``, its page in ``report_html``, ``report_protocol`` and ``report_style``).
Reads records; imports nothing from running or evaluation."""
