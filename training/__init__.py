"""Training, evaluation, thresholds and data checks. Functions return values; they never print."""
