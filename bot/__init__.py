"""mentorbot: the composition root (`bot.app`), a kernel that knows no feature (`bot.kernel`), Slack
plumbing that knows no feature (`bot.slack`), and one package per feature. Nothing here is re-exported.
"""
