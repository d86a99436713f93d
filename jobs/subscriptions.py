"""Premium subscription job family (queue `subscriptions`): renewals and renewal reminders."""
