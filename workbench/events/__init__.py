"""Run the designed consistency mechanisms: outbox relay to a broker, idempotent consumers, sagas.

The design (:mod:`workbench.design`) describes, per service, a transactional outbox, an inbox
(``processed_message``), the events each service publishes and who needs them, the replicas and
read models those events keep current, and the sagas. This package makes them run on a real broker:

- :mod:`~workbench.events.relay`: each outbox to its service's stream, at least once, in order;
- :mod:`~workbench.events.consume` and :mod:`~workbench.events.apply`: durable consumers applying
  events idempotently to the replicas and read models (:mod:`~workbench.events.readmodels`);
- :mod:`~workbench.events.capture`: during the transition, the owners' events from change capture;
- :mod:`~workbench.events.saga`: a saga's steps as event handlers with compensations;
- :mod:`~workbench.events.status`: outbox backlog, consumer lag, dead letters, events/s per service;
- :mod:`~workbench.events.broker`: what a broker must offer; :mod:`~workbench.events.jetstream`
  implements it for NATS JetStream.
"""
