"""The scheduler process: fires recurring jobs by enqueueing them; never runs a job's body."""
