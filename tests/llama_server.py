"""Run llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``)
with llama.cpp's extra weight buffers (repacking) switched off.

Why: on CPUs with AMX, llama-cpp-python 0.3.36 repacks Q4_1 weights into AMX
buffers and then segfaults at the first decode (seen on this project's
machines with the SmolLM2 GGUF). The server has no flag for
``use_extra_bufts``, so this sets it in the default model parameters before
handing over to the unmodified server module. Arguments are the server's own.
"""

import runpy

import llama_cpp.llama_cpp as bindings

_defaults = bindings.llama_model_default_params


def _without_extra_buffers():
    params = _defaults()
    params.use_extra_bufts = False
    return params


bindings.llama_model_default_params = _without_extra_buffers
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
