# fish completion for knock-rotator (copy to ~/.config/fish/completions/).
set -l applets generate knock rotate status fingerprint help
complete -c knock-rotator -f -n "not __fish_seen_subcommand_from $applets" -a "$applets"
complete -c knock-rotator -n "not __fish_seen_subcommand_from $applets" -l install -l help -l version
complete -c knock-rotator -f -n "__fish_seen_subcommand_from generate" -l offset -l at -l format -a ""
complete -c knock-rotator -f -n "__fish_seen_subcommand_from knock" -s 4 -s 6 -s d -l delay -s v -l verbose -s u -l udp -l offset -l at -l window -l check -l check-timeout -l retries -l raw -l tcpflags
complete -c knock-rotator -n "__fish_seen_subcommand_from rotate status" -s c -l config -r
complete -c knock-rotator -f -n "__fish_seen_subcommand_from rotate" -s n -l dry-run -l show-sequences -l at -l pidfile -l reload-command -l no-reload -s w -l watch -l no-boundary-run
