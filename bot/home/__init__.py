"""Surfaces that read several features: the App Home tab, `/mentorship status` and help."""
