"""The voting rules proper. Each takes an ``Electorate`` and returns ``(winners, outcomes)``:
winner indices in selection order and one ``ProjectOutcome`` per project index."""
