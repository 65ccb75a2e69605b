"""Monitor stage: know when a deployed model breaks.

- metrics: the EMF line each invocation writes lives in :mod:`sklambda.runtime.metrics` (it
  ships in every package); alarms on them and on Lambda's own metrics, an SNS topic, log
  retention and a max-memory metric filter are set up by ``deploy`` (:mod:`.alarms`,
  :mod:`.loggroups`);
- :mod:`.logs` — ``sklambda logs``: a function's log events, REPORT lines summarised, EMF lines
  as metrics, errors marked;
- Telegram alerts: :mod:`.notifier` (the Lambda side, standard library only), :mod:`.packaging`
  (its package, proven in the emulator), :mod:`.alerts` (deploying it and subscribing it),
  :mod:`.standins` (Telegram and SSM on loopback for the proof and the tests).

boto3 is imported only inside the functions that call AWS.
"""
