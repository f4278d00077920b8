"""A fake of Slack's Web API served over real HTTP, shipped in the product as a test double (like
Flask's `flask.testing`): it validates Block Kit, injects latency, 429s, 500s and connection faults, and
its `requests.SlackRequestSender` signs requests into a Bolt app the way Slack does. Used by the demo,
the tests and the benchmarks (`server.FakeSlack`, `models.FakeUser`). `FakeSlack.socket_mode` is its
Socket Mode WebSocket service (`socket_mode.SocketModeEndpoint`: hello, envelopes, acks, disconnects and
network faults), and `socket_requests.SocketModeSender` delivers the same requests there as envelopes.
"""
