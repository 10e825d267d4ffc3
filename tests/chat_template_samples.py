# ruff: noqa: E501  (template lines are long on purpose: they read like the real ones)
"""Chat templates for tests, written for pellucid in the styles of common model families.

``BENIGN`` must produce zero issues. ``hostile(command)`` gives injection payloads (named after
the technique) that would run ``command`` if an unsandboxed loader rendered them; tests pass a
canary ``touch`` command and never render them.
"""

from __future__ import annotations

LLAMA2_INST = """\
{% if messages[0]['role'] == 'system' %}{% set sys_text = messages[0]['content'] %}\
{% set rest = messages[1:] %}{% else %}{% set sys_text = '' %}{% set rest = messages %}{% endif %}
{% for m in rest %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}\
{{ raise_exception('Turns have to go user, assistant, user, assistant.') }}{% endif %}
{% if m['role'] == 'user' %}{% if loop.first and sys_text %}\
{{ bos_token + '[INST] <<SYS>>\\n' + sys_text + '\\n<</SYS>>\\n\\n' + m['content'] | trim + ' [/INST]' }}\
{% else %}{{ bos_token + '[INST] ' + m['content'] | trim + ' [/INST]' }}{% endif %}\
{% elif m['role'] == 'assistant' %}{{ ' ' + m['content'] | trim + ' ' + eos_token }}{% endif %}
{% endfor %}"""

LLAMA3_HEADERS = """\
{% set turns = messages %}{% for message in turns %}\
{% set text = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' \
+ message['content'] | trim + '<|eot_id|>' %}\
{% if loop.index0 == 0 %}{% set text = bos_token + text %}{% endif %}{{ text }}{% endfor %}\
{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"""

CHATML_TOOLS = """\
{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}
    {%- else %}{{- 'You are a capable assistant.\\n\\n' }}{%- endif %}
    {{- "# Tools\\n\\nFunction signatures are listed in <tools></tools>:\\n<tools>" }}
    {%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}
    {{- "\\n</tools>\\n\\nAnswer calls as JSON in <tool_call></tool_call> tags.<|im_end|>\\n" }}
{%- elif messages[0].role == 'system' %}
    {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- for message in messages %}
    {%- if message.role == "user" or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>assistant' }}
        {%- if message.content %}{{- '\\n' + message.content }}{%- endif %}
        {%- for tool_call in message.tool_calls | default([]) %}
            {%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}
            {%- if tool_call.arguments is string %}{{- tool_call.arguments }}
            {%- else %}{{- tool_call.arguments | tojson }}{%- endif %}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}{{- '<|im_start|>user' }}{%- endif %}
        {{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- '<|im_end|>\\n' }}{%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"""

MISTRAL_ALTERNATION = """\
{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}
{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('User and assistant turns must alternate.') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}
        {%- else %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- endif %}
    {%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token }}
    {%- else %}{{- raise_exception('Only system, user and assistant roles are supported.') }}
    {%- endif %}
{%- endfor %}"""

GEMMA_TURNS = """\
{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('No system role.') }}{% endif %}\
{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}\
{% else %}{% set role = message['role'] %}{% endif %}\
{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}\
{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"""

PHI3_TAGS = """\
{% for message in messages %}{% if message['role'] == 'system' %}\
{{ '<|system|>\\n' + message['content'] + '<|end|>\\n' }}{% elif message['role'] == 'user' %}\
{{ '<|user|>\\n' + message['content'] + '<|end|>\\n' }}{% elif message['role'] == 'assistant' %}\
{{ '<|assistant|>\\n' + message['content'] + '<|end|>\\n' }}{% endif %}{% endfor %}\
{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"""

DEEPSEEK_THINK = """\
{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}\
{% set ns = namespace(is_tool=false, system_prompt='') %}\
{%- for message in messages %}{%- if message['role'] == 'system' %}\
{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}\
{{ bos_token }}{{ ns.system_prompt }}\
{%- for message in messages %}\
{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{ '<｜User｜>' + message['content'] }}{%- endif %}\
{%- if message['role'] == 'assistant' and message['content'] is not none %}\
{% set content = message['content'] %}{% if '</think>' in content %}\
{% set content = content.split('</think>')[-1] %}{% endif %}\
{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{%- endif %}\
{%- endfor -%}{% if add_generation_prompt and not ns.is_tool %}{{ '<｜Assistant｜>' }}{% endif %}"""

ZEPHYR_ROLES = """\
{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""

LLAMA31_TOOLS = """\
{{- bos_token }}
{%- if custom_tools is defined %}{%- set tools = custom_tools %}{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}{%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}{%- set date_string = "01 Jan 2025" %}{%- endif %}
{%- endif %}
{%- if not tools is defined %}{%- set tools = none %}{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] | trim %}{%- set messages = messages[1:] %}
{%- else %}{%- set system_message = "" %}{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n" }}
{%- endif %}
{{- "Today Date: " + date_string + "\\n\\n" }}{{- system_message }}{{- "<|eot_id|>" }}
{%- set ns = namespace(found_tool=false) %}
{%- for message in messages %}
    {%- if message.role in ['user', 'system'] %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls | length == 1 %}{{- raise_exception("One tool call per turn.") }}{%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", "parameters": ' }}{{- tool_call.arguments | tojson }}{{- "}" }}
        {{- "<|eot_id|>" }}{%- set ns.found_tool = true %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}{{- message.content | tojson }}
        {%- else %}{{- message.content }}{%- endif %}{{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- set user_turns = messages | selectattr('role', 'equalto', 'user') | list %}
{%- if tools is not none and user_turns | length > 0 %}
    {%- for t in tools %}{{- t | tojson(indent=4) }}{{- "\\n\\n" }}{%- endfor %}
{%- endif %}
{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"""

HF_GENERATION_MACROS = """\
{%- macro render_content(content) -%}
    {%- if content is string -%}{{- content -}}
    {%- else -%}{%- for part in content if part.type == 'text' -%}{{- part.text -}}{%- endfor -%}{%- endif -%}
{%- endmacro -%}
{%- set sep = joiner(', ') -%}
{%- for key, value in metadata | default({}) | dictsort %}{{ sep() }}{{ key }}={{ value }}{% endfor %}
{%- set names = tools | default([]) | map(attribute='function.name') | list -%}
{%- for name in names %}{{ name | upper }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- for message in messages -%}
    {%- if message.get('role') == 'assistant' -%}
        {% generation %}{{ render_content(message.content) }}{% endgeneration %}
    {%- else -%}{{ render_content(message['content']) }}{%- endif -%}
    {%- if message.content is string and message.content.startswith('/no_think') %}{{ '<think>\\n\\n</think>' }}{% endif %}
    {%- if loop.index > 500 %}{% break %}{% endif -%}
{%- endfor -%}"""

BENIGN: dict[str, str] = {
    "llama2-inst": LLAMA2_INST,
    "llama3-headers": LLAMA3_HEADERS,
    "chatml-tools": CHATML_TOOLS,
    "mistral-alternation": MISTRAL_ALTERNATION,
    "gemma-turns": GEMMA_TURNS,
    "phi3-tags": PHI3_TAGS,
    "deepseek-think": DEEPSEEK_THINK,
    "zephyr-roles": ZEPHYR_ROLES,
    "llama31-tools": LLAMA31_TOOLS,
    "hf-generation-macros": HF_GENERATION_MACROS,
}


def hostile(command: str) -> dict[str, str]:
    """Injection payloads by technique; each would run ``command`` if rendered unsandboxed."""
    cmd = repr(command)
    return {
        "cycler-globals": f"{{{{ cycler.__init__.__globals__.os.popen({cmd}).read() }}}}",
        "attr-concat": "{{ (cycler|attr('__in' ~ 'it__')|attr('__glo' ~ 'bals__'))['os']"
        f".popen({cmd}).read() }}}}",
        "set-indirection": "{% set g = '__glob' + 'als__' %}{% set i = '_' * 2 ~ 'init' ~ "
        f"'_' * 2 %}}{{{{ (joiner|attr(i)|attr(g)).os.popen({cmd}).read() }}}}",
        "format-field": f"{{{{ '{{0.__init__.__globals__[os]}}'.format(cycler) }}}}{{# {cmd} #}}",
        "percent-format-name": "{% set n = '%s%sglobals%s%s'|format('_', '_', '_', '_') %}"
        f"{{{{ (cycler.next|attr(n))['os'].popen({cmd}) }}}}",
        "attr-variable": "{% for n in names %}{% set o = cycler|attr(n) %}{% endfor %}"
        f"{{# {cmd} #}}",
        "include-file": "{% include '/etc/passwd' %}{% import 'macros.j2' as m %}",
        "lipsum-globals": f"{{{{ lipsum.__globals__['os'].popen({cmd}).read() }}}}",
        "request-config-globals": "{{ config.items() }}{{ request.application.__globals__"
        f".__builtins__.__import__('os').popen({cmd}) }}}}",
        "namespace-init": "{% set ns = namespace() %}"
        f"{{{{ ns.__init__.__globals__.os.popen({cmd}) }}}}",
        "item-lookup": f"{{{{ cycler['__init__']['__globals__']['os'].popen({cmd}) }}}}",
        "escaped-item": "{{ cycler['\\x5f\\x5finit\\x5f\\x5f']['\\x5f\\x5fglobals\\x5f\\x5f']"
        f"['os'].popen({cmd}) }}}}",
        "join-item": "{{ cycler[['__', 'init', '__']|join][('__', 'globals', '__')|join]"
        f"['os'].popen({cmd}) }}}}",
        "map-attribute-path": "{{ [cycler]|map(attribute='__init__.__globals__')|list }}"
        f"{{# {cmd} #}}",
        "map-attr-filter": f"{{{{ [cycler]|map('attr', '__init__')|list }}}}{{# {cmd} #}}",
        "reversed-name": f"{{{{ cycler|attr('__tini__'|reverse) }}}}{{# {cmd} #}}",
        "mro-walk": f"{{{{ ''.__class__.mro()[1].__subclasses__() }}}}{{# {cmd} #}}",
        "self-context": f"{{{{ self._TemplateReference__context }}}}{{# {cmd} #}}",
    }
