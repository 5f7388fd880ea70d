-- Test-only rules (make test, make dev; the compose image leaves this file out). A sender can only
-- make its own message look worse with them, never better: scores below 0 and actions other than
-- reject and soft reject are ignored, so they cannot whitelist anything.

-- "X-Correo-Test-Score: <n>" scores n more (n > 0): a known score for the Junk and per-domain
-- threshold tests, without depending on Rspamd's rules.
rspamd_config.CORREO_TEST_SCORE = {
  callback = function(task)
    local value = task:get_header('X-Correo-Test-Score')
    local score = value and tonumber(value)
    if score and score > 0 then return true, score, value end
    return false
  end,
  score = 1.0,
  description = 'correo test score header',
  group = 'correo',
}

-- "X-Correo-Test-Action: soft reject" (or reject) forces that action, as Rspamd's own greylist and
-- ratelimit modules do: the tests reach the 451 path through Rspamd itself.
rspamd_config:register_symbol({
  name = 'CORREO_TEST_ACTION',
  type = 'prefilter',
  priority = 10,
  callback = function(task)
    local action = task:get_header('X-Correo-Test-Action')
    if action == 'soft reject' or action == 'reject' then
      task:set_pre_result(action, 'correo test action')
    end
  end,
})
