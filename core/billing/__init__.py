"""Payment gateways that charge a saved card off-session: renewals of premium subscriptions."""
