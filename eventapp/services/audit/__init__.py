"""Records of what organisers did with personal data (exports), for the admins to review."""
