"""The optional LLM judge of evaluation: answer extraction where the rules find no answer, and the
perception/reasoning label of each wrong visual-math answer (the ``judge_split`` evaluator).

``client`` (an OpenAI-compatible server over urllib), ``backend_client`` (a seethink backend's
``generate``), ``prompts`` (the packaged, versioned templates in ``prompts/``), ``cache`` (replies on
disk), ``judge`` (``Judge`` and the reply parsers), ``options``, ``evaluator``. Nothing is imported
here: the plugin imports ``options`` when it registers, and that must stay cheap.
"""
