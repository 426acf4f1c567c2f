# fish completion for knock-rotator, knock and knock-rotate (copy to
# ~/.config/fish/completions/ as knock-rotator.fish, and link knock.fish and
# knock-rotate.fish to it). One option list per applet, used for the links too.

# __knock_rotator_options CMD CONDITION APPLET
function __knock_rotator_options -a cmd cond applet
    complete -c $cmd -f -n $cond -s h -l help -d 'show the help'
    complete -c $cmd -f -n $cond -s V -l version -d 'show the version'
    switch $applet
        case generate
            complete -c $cmd -f -n $cond -l offset -x -d 'N periods away'
            complete -c $cmd -f -n $cond -l at -x -d 'as if the clock showed this time'
            complete -c $cmd -f -n $cond -l format -x -a 'plain knockd' -d 'output form'
        case knock
            complete -c $cmd -f -n $cond -s 4 -d 'IPv4 only'
            complete -c $cmd -f -n $cond -s 6 -d 'IPv6 only'
            complete -c $cmd -f -n $cond -s d -l delay -x -d 'pause between knocks (ms)'
            complete -c $cmd -f -n $cond -s v -l verbose -d 'print each knock'
            complete -c $cmd -f -n $cond -s u -l udp -d 'classic form: ports are udp'
            complete -c $cmd -f -n $cond -l offset -x -d 'N periods away'
            complete -c $cmd -f -n $cond -l at -x -d 'as if the clock showed this time'
            complete -c $cmd -f -n $cond -l window -x -d 'boundary window (s)'
            complete -c $cmd -f -n $cond -l check -x -d 'port to check after knocking'
            complete -c $cmd -f -n $cond -l check-timeout -x -d 'how long a check waits (ms)'
            complete -c $cmd -f -n $cond -l retries -x -d 'knocks again after a failed check'
            complete -c $cmd -f -n $cond -l raw -d 'raw TCP segments'
            complete -c $cmd -f -n $cond -l tcpflags -x -d 'flags of raw TCP knocks'
            complete -c $cmd -f -n $cond -a '(__fish_print_hostnames)'
        case rotate
            complete -c $cmd -n $cond -s c -l config -r -F -d 'knockd configuration'
            complete -c $cmd -f -n $cond -s n -l dry-run -d 'show what would change'
            complete -c $cmd -f -n $cond -l show-sequences -d 'show sequences in the diff'
            complete -c $cmd -f -n $cond -l at -x -d 'rotate for the period holding this time'
            complete -c $cmd -n $cond -l pidfile -r -F -d 'knockd pid file'
            complete -c $cmd -f -n $cond -l reload-command -x -d 'reload with this command'
            complete -c $cmd -f -n $cond -l no-reload -d 'write the file only'
            complete -c $cmd -f -n $cond -s w -l watch -d 'rotate at every boundary'
            complete -c $cmd -f -n $cond -l no-boundary-run -d 'do not stay behind for a boundary'
        case status
            complete -c $cmd -n $cond -s c -l config -r -F -d 'knockd configuration'
            complete -c $cmd -f -n $cond -l at -x -d 'as if the clock showed this time'
    end
end

set -l applets generate knock rotate status fingerprint help
complete -c knock-rotator -f -n "not __fish_seen_subcommand_from $applets" -a "$applets"
complete -c knock-rotator -n "not __fish_seen_subcommand_from $applets" -l install -r -a '(__fish_complete_directories)' -d 'links beside the executable or in DIR'
complete -c knock-rotator -f -n "not __fish_seen_subcommand_from $applets" -s h -l help -d 'show the help'
complete -c knock-rotator -f -n "not __fish_seen_subcommand_from $applets" -s V -l version -d 'show the version'
for a in generate knock rotate status fingerprint
    __knock_rotator_options knock-rotator "__fish_seen_subcommand_from $a" $a
end
__knock_rotator_options knock true knock
__knock_rotator_options knock-rotate true rotate
