"""The Telegram notifier: a small Lambda function of its own, standard library only.

It is packaged by :func:`sklambda.monitor.packaging.build_notifier` (``sklambda alerts package``)
the way model packages are, proven in the local emulator, and subscribed to a model function's
log group (errors, timeouts, init failures, out-of-memory) and to its alarm topic.

- :mod:`.handler` — the entry point: subscription payloads, SNS alarm notifications, a test event;
- :mod:`.logevents` — CloudWatch Logs subscription payloads decoded, lines classified, summarised;
- :mod:`.messages` — the Telegram messages (HTML, escaped, within 4,096 characters);
- :mod:`.telegram` — ``sendMessage`` over ``urllib``, ``retry_after`` honoured on 429;
- :mod:`.awsapi` — SigV4-signed calls to SSM Parameter Store and Secrets Manager without boto3
  (the local emulator has only the package's own files; Lambda's preinstalled boto3 varies).

Nothing here imports anything outside the standard library and this package (a test holds it).
"""
