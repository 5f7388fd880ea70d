#!/usr/bin/env bash
# A private Postfix for bench-vs-postfix: its own config, queue and data directories under $1,
# listening only on 127.0.0.1:$2, delivering to virtual Maildir mailboxes of the domain $3 under
# $1/mail. It never reads or touches /etc/postfix or a system instance (every path is its own).
#   bench/postfix-private.sh start <dir> <port> <domain> <recipient>...
#   bench/postfix-private.sh stop <dir>
set -euo pipefail
command=$1
dir=$(realpath -m "$2")

if [ "$command" = stop ]; then
  [ -f "$dir/etc/main.cf" ] && postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
  exit 0
fi

port=$3
domain=$4
shift 4
if ! command -v postfix >/dev/null || ! command -v smtp-source >/dev/null; then
  echo "bench-vs-postfix: installing postfix from Debian (it ships smtp-source)" >&2
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  # policy-rc.d keeps the package from starting a system instance.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix >&2
fi
id vmail >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin vmail
uid=$(id -u vmail)
gid=$(id -g vmail)

rm -rf "$dir"
mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail"
chown postfix "$dir/data"
chown -R "$uid:$gid" "$dir/mail"
maps=""
for rcpt in "$@"; do maps="$maps $rcpt=${rcpt#*@}/${rcpt%@*}/"; done

cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.postfix.bench.test
mydomain = postfix.bench.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
smtp_dns_support_level = disabled
disable_dns_lookups = yes
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = $domain
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = inline:{$(echo $maps | sed 's/ /, /g')}
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_destination_concurrency_limit = 20
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
CF
cat >"$dir/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
postfix -c "$dir/etc" check >&2
postfix -c "$dir/etc" start >&2
