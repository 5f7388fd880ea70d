-- A test-only symbol: a message with "X-Correo-Test-Score: <n>" scores n more. The tests use it to
-- get a known score (Junk threshold, per-domain thresholds) without depending on Rspamd's rules.
rspamd_config.CORREO_TEST_SCORE = {
  callback = function(task)
    local value = task:get_header('X-Correo-Test-Score')
    local score = value and tonumber(value)
    if score then return true, score, value end
    return false
  end,
  score = 1.0,
  description = 'correo test score header',
  group = 'correo',
}

-- "X-Correo-Test-Action: soft reject" (or any action name) forces that action, as Rspamd's own
-- greylist and ratelimit modules do: the tests reach the 451 path through Rspamd itself.
rspamd_config:register_symbol({
  name = 'CORREO_TEST_ACTION',
  type = 'prefilter',
  priority = 10,
  callback = function(task)
    local action = task:get_header('X-Correo-Test-Action')
    if action then task:set_pre_result(action, 'correo test action') end
  end,
})
