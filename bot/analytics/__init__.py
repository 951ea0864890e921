"""Analytics over the question log: grouping unanswered messages for review."""
