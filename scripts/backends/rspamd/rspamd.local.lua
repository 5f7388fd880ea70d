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
