# bash completion for knock-rotator, knock and knock-rotate.
# Install: copy to /usr/share/bash-completion/completions/knock-rotator and
# link knock and knock-rotate to it, or source it from ~/.bashrc.
_knock_rotator() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local applet=${COMP_WORDS[0]##*/}
    case $applet in
        knock | knock-rotate) ;;
        *)
            if [ "$COMP_CWORD" -eq 1 ]; then
                COMPREPLY=($(compgen -W "generate knock rotate status fingerprint help --install --help --version" -- "$cur"))
                return
            fi
            applet=${COMP_WORDS[1]} ;;
    esac
    case $prev in
        -c|--config|--pidfile) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --install) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "plain knockd" -- "$cur")); return ;;
        --offset|--at|--delay|-d|--window|--check|--check-timeout|--retries|--tcpflags|--reload-command) return ;;
    esac
    case $applet in
        knock-rotate | r*) COMPREPLY=($(compgen -W "-c --config -n --dry-run --show-sequences --at --pidfile --reload-command --no-reload -w --watch --no-boundary-run --help" -- "$cur")) ;;
        g*) COMPREPLY=($(compgen -W "--offset --at --format --help" -- "$cur")) ;;
        knock | k*) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "-4 -6 -d --delay -v --verbose -u --udp --offset --at --window --check --check-timeout --retries --raw --tcpflags --help --version" -- "$cur")) \
                  || COMPREPLY=($(compgen -A hostname -- "$cur")) ;;
        s*) COMPREPLY=($(compgen -W "-c --config --at --help" -- "$cur")) ;;
    esac
}
complete -F _knock_rotator knock-rotator knock knock-rotate
